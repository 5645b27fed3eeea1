/* bench/python.c - CPython's figures: run the tutorial's workloads through
 * python3 (bench/tutorial.py) and keep what it prints, so that each C row
 * can show the Python time and the C/Python ratio beside it.
 *
 * The script prints "# CPython X.Y.Z" and then one "NAME<TAB>SECONDS" line
 * a figure; a row of bench looks its figure up by NAME.
 *
 * See also: bench/tutorial.py, docs/performance.md.
 */
#define _POSIX_C_SOURCE 200809L /* fork, pipe, waitpid: POSIX, not C11 */
#include <errno.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "err.h"

extern char **environ;

#define PY_MAX 32

static struct {
    bool have;
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

/* Run `python3 SCRIPT -w W -r R -u U` and keep what it prints. A missing
 * python3 is said and skipped: the C figures stand on their own. */
void run_python(const char *script)
{
    char w[16], r[16], u[32];
    char *argv[] = { "python3", (char *)script, "-w", w, "-r", r, "-u", u,
                     cfg.quick ? "--quick" : NULL, NULL };
    posix_spawn_file_actions_t fa;
    char *text = NULL;
    size_t len = 0, cap = 0;
    int fd[2], err, status;
    pid_t pid;

    snprintf(w, sizeof w, "%d", cfg.workers);
    snprintf(r, sizeof r, "%d", cfg.runs);
    snprintf(u, sizeof u, "%g", cfg.unit);
    printf("python: python3 %s -w %s -r %s -u %s%s\n", script, w, r, u,
           cfg.quick ? " --quick" : "");
    if (pipe(fd) < 0)
        die("pipe");
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    posix_spawn_file_actions_addclose(&fa, fd[1]);
    err = posix_spawnp(&pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (err) {
        close(fd[0]);
        if (err == ENOENT)
            printf("python: python3 not found: the Python columns are left out\n");
        else
            printf("python: cannot run python3 (%s): the Python columns are left out\n",
                   strerror(err));
        return;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *bigger = realloc(text, cap ? 2 * cap : 16384);
            if (!bigger)
                die("realloc");
            text = bigger;
            cap = cap ? 2 * cap : 16384;
        }
        ssize_t got = read(fd[0], text + len, cap - len - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd[0]);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !text) {
        printf("python: %s failed (wait status %#x): the Python columns are left out\n",
               script, (unsigned)status);
        free(text);
        return;
    }
    text[len] = '\0';
    py_parse(text);
    free(text);
    py.have = py.n > 0;
    if (py.have)
        printf("python: CPython %s, %d figures\n", py.version, py.n);
    else
        printf("python: %s printed no figures: the Python columns are left out\n",
               script);
}

