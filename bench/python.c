/* bench/python.c - CPython's figures: run the tutorial's workloads through
 * python3 (bench/tutorial.py) and keep what it prints, so that each C row
 * can show the Python time and the C/Python ratio beside it.
 *
 * The script prints "# CPython X.Y.Z" and then one "NAME<TAB>SECONDS" line
 * a figure; a row of bench looks its figure up by NAME.
 *
 * See also: bench/tutorial.py, docs/performance.md.
 */
#define _POSIX_C_SOURCE 200809L /* fork, sigwait, waitpid: POSIX, not C11 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "err.h"
#include "io.h"

#define PY_MAX 32

static struct {
    char version[64];
    int n;
    char name[PY_MAX][40];
    double seconds[PY_MAX];
} py;

/* Python's median for `name`, or -1 when there is none. */
static double py_time(const char *name)
{
    for (int i = 0; i < py.n; i++)
        if (strcmp(py.name[i], name) == 0)
            return py.seconds[i];
    return -1;
}

/* "  <python time>  <C/python>" for a row, or "  -  -" without Python. */
const char *py_cols(const char *name, double c_seconds)
{
    static char ring[4][48];
    static int next;
    char *buf = ring[next++ % 4];
    double p = py_time(name);

    if (p <= 0)
        snprintf(buf, sizeof ring[0], "%11s %9s", "-", "-");
    else
        snprintf(buf, sizeof ring[0], "%11s %9.4f", fmt_time(p), c_seconds / p);
    return buf;
}

/* Parse the script's output: "# CPython X.Y.Z" then NAME<TAB>SECONDS lines. */
static void py_parse(char *text)
{
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char name[40];
        double s;

        if (strncmp(line, "# CPython ", 10) == 0)
            snprintf(py.version, sizeof py.version, "%s", line + 10);
        else if (py.n < PY_MAX && sscanf(line, "%39s %lf", name, &s) == 2 && s > 0) {
            snprintf(py.name[py.n], sizeof py.name[0], "%s", name);
            py.seconds[py.n++] = s;
        }
    }
}

/* ---- python3 under a guard --------------------------------------------------
 *
 * Nothing bench starts may outlive it, even when bench alone is killed
 * with SIGKILL, and python3 starts processes of its own (a Pool's
 * workers). So bench does not start python3 itself: it forks a guard, the
 * guard makes a process group of its own and starts python3 in it. The
 * kernel tells the guard when bench ends, however it ends
 * (PR_SET_PDEATHSIG); the guard then kills the whole group: python3, its
 * workers, and itself. When python3 ends first, the guard ends the same
 * way (the same exit status, or killed by the same signal), after a
 * SIGTERM to anything python3 left behind in the group.
 */

/* The guard: start python3 in a group of its own, then wait for whichever
 * comes first, python3's end or bench's. `out` becomes python3's stdout;
 * `err_w` (close-on-exec) carries exec's errno back if python3 cannot run. */
static _Noreturn void guard(char *argv[], int out, int err_w, pid_t bench)
{
    sigset_t set;
    int sig, status;
    pid_t py_pid;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    /* Asked before looking: bench may have gone between fork and here. */
    if (setpgid(0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 ||
        getppid() != bench)
        _exit(126);
    py_pid = fork();
    if (py_pid < 0)
        _exit(126);
    if (py_pid == 0) {
        int e;

        sigprocmask(SIG_UNBLOCK, &set, NULL);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || dup2(out, STDOUT_FILENO) < 0)
            _exit(126);
        close(out);
        execvp(argv[0], argv);
        e = errno;
        _exit(write_all(err_w, &e, sizeof e) ? 126 : 127);
    }
    close(out);
    close(err_w);
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGTERM) {       /* bench is gone: all of us go */
            kill(0, SIGKILL);
            _exit(1);
        }
        if (waitpid(py_pid, &status, WNOHANG) == py_pid)
            break;
    }
    kill(0, SIGTERM);               /* leftovers; ours is blocked */
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(WTERMSIG(status));
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/* A pipe whose ends are closed on exec. */
static void cloexec_pipe(int fd[2])
{
    if (pipe(fd) < 0)
        die("pipe");
    fcntl(fd[0], F_SETFD, FD_CLOEXEC);
    fcntl(fd[1], F_SETFD, FD_CLOEXEC);
}

/* Start argv (python3 ...) under a guard. Returns the guard's pid, with
 * the read end of python3's stdout in *out and, in *exec_err, 0 or the
 * errno of a failed exec (ENOENT: no python3). */
static pid_t start_guarded(char *argv[], int *out, int *exec_err)
{
    int o[2], e[2];
    pid_t bench = getpid(), pid;

    cloexec_pipe(o);
    cloexec_pipe(e);
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(o[0]);
        close(e[0]);
        guard(argv, o[1], e[1], bench);
    }
    close(o[1]);
    close(e[1]);
    /* End of file: exec succeeded (close-on-exec) or the guard gave up. */
    if (read_full(e[0], exec_err, sizeof *exec_err) < 0)
        *exec_err = 0;
    close(e[0]);
    *out = o[0];
    return pid;
}

/* Everything readable from fd until end of file, NUL-terminated. */
static char *slurp(int fd)
{
    char *text = NULL;
    size_t len = 0, cap = 0;

    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *bigger = realloc(text, cap ? 2 * cap : 16384);
            if (!bigger)
                die("realloc");
            text = bigger;
            cap = cap ? 2 * cap : 16384;
        }
        ssize_t got = read(fd, text + len, cap - len - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            die("reading python3's output");
        if (got == 0)
            break;
        len += (size_t)got;
    }
    text[len] = '\0';
    return text;
}

/* Run `python3 SCRIPT -w W -r R -u U` and keep what it prints. A missing
 * python3 is said and skipped: the C figures stand on their own. A script
 * that is missing, fails, or prints no figures ends bench (exit 1): the
 * Python columns were asked for. */
void run_python(const char *script)
{
    char w[16], r[16], u[32], how[96];
    char *argv[] = { "python3", (char *)script, "-w", w, "-r", r, "-u", u,
                     cfg.quick ? "--quick" : NULL, NULL };
    int out, exec_err, status;
    char *text;
    pid_t pid;

    if (access(script, R_OK) < 0)
        die("--python %s", script);
    snprintf(w, sizeof w, "%d", cfg.workers);
    snprintf(r, sizeof r, "%d", cfg.runs);
    snprintf(u, sizeof u, "%g", cfg.unit);
    printf("python: python3 %s -w %s -r %s -u %s%s\n", script, w, r, u,
           cfg.quick ? " --quick" : "");
    pid = start_guarded(argv, &out, &exec_err);
    text = slurp(out);
    close(out);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid");
    if (exec_err) {
        free(text);
        printf("python: %s: the Python columns are left out\n",
               exec_err == ENOENT ? "python3 not found" : strerror(exec_err));
        return;
    }
    if (status != 0) {
        free(text);
        fatal("python3 %s %s", script,
              pool_describe_status(status, how, sizeof how));
    }
    py_parse(text);
    free(text);
    if (py.n == 0)
        fatal("python3 %s printed no figures", script);
    printf("python: CPython %s, %d figures\n", py.version, py.n);
}
