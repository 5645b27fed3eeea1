/* pool/start/spawn.c - the spawn start method: each worker a fresh image of
 * the program, as multiprocessing's "spawn" context.
 *
 * Shows: a worker that runs main() from the top, meets pool_main() and
 * turns into a worker there, the C face of the `if __name__ ==
 * "__main__":` guard. A pointer means nothing in another image, so a task
 * travels by its index in pool_main's table (pool.c), the same in every
 * image: the C face of pickling a function by name (CPython:
 * Lib/multiprocessing/spawn.py and popen_spawn_posix.py, 3.11).
 *
 * The image is the one running, not whatever the file holds now: once a
 * rebuild has replaced the file, the path given to posix_spawn is
 * /proc/self/exe, which the child, not yet exec'd, resolves to its
 * parent's own executable. (Not always: under valgrind that link is
 * valgrind's own.)
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addclosefrom_np */
#include <errno.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../process.h"
#include "start.h"

extern char **environ;

static bool booted;        /* pool_main ran: fresh images may be started */
static char exe[4096];     /* the program's path, for its workers' argv[0] */
static struct stat was;    /* and its file as it was when we started */
static char loader[4096];  /* not empty: we run under this loader */

/* Were we started through the dynamic loader ("ld.so PROG")? Then
 * /proc/self/exe is the loader, and a fresh image of it is no worker: the
 * mapping that holds our own code names the program instead. */
static void find_loader(void)
{
    char line[4600], path[4096];
    uintptr_t here = (uintptr_t)&start_boot, lo, hi;
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    FILE *maps = fopen("/proc/self/maps", "r");

    exe[len > 0 ? len : 0] = '\0';
    if (stat(exe, &was) != 0)
        memset(&was, 0, sizeof was);
    if (len <= 0 || !maps) {
        if (maps)
            fclose(maps);
        return;
    }
    while (fgets(line, sizeof line, maps))
        if (sscanf(line, "%jx-%jx %*s %*s %*s %*s %4095s", (uintmax_t *)&lo,
                   (uintmax_t *)&hi, path) == 3 && lo <= here && here < hi) {
            if (strcmp(path, exe) != 0)
                snprintf(loader, sizeof loader, "%s", exe);
            break;
        }
    fclose(maps);
}

/* pool_main's table is the same array in every image of the program, so
 * an index names a task in all of them: the C face of pickling by name. */
static const struct pool_task *task_table;
static size_t task_count;

size_t start_task_index(pool_fn *fn)
{
    for (size_t i = 0; i < task_count; i++)
        if (task_table[i].fn == fn)
            return i;
    return POOL_TASK_NONE;
}

/* What a worker runs for an index its own table lacks (only a program
 * that builds its table differently in each image gets here). */
static int missing_task(const void *arg, void *result)
{
    (void)arg;
    (void)result;
    return ENOSYS;
}

static pool_fn *task_fn(size_t index)
{
    return index < task_count ? task_table[index].fn : missing_task;
}

void start_boot(const struct pool_task *tasks, size_t ntasks)
{
    task_table = tasks;
    task_count = ntasks;
    pp_task_fn = task_fn;
    booted = true;
    find_loader();
}

int start_check_image(const char *method)
{
    if (!booted) {
        pool_set_error(NULL, "%s pool opened before pool_main(): call it "
                       "first in main()", method);
        return EINVAL;
    }
    if (loader[0]) {
        pool_set_error(NULL, "a fresh image of a program started through "
                       "the dynamic loader (%s) would be the loader: run the "
                       "program itself, or use --start fork", loader);
        return EINVAL;
    }
    return 0;
}

/* The environment for a fresh image: ours, with `var` in place of any
 * CHILD_ENV. NULL when memory runs out. */
static char **child_environ(char *var)
{
    size_t n = 0, k = 0;

    while (environ[n])
        n++;
    char **envp = malloc((n + 2) * sizeof *envp);
    if (!envp)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], CHILD_ENV "=", sizeof CHILD_ENV) != 0)
            envp[k++] = environ[i];
    envp[k++] = var;
    envp[k] = NULL;
    return envp;
}

pid_t start_launch(const char *role, int fd)
{
    char var[64];
    char *argv[] = { exe, NULL };
    posix_spawn_file_actions_t fa;
    pid_t pid;

    snprintf(var, sizeof var, CHILD_ENV "=%s:%d:%ld", role, CHILD_FD,
             (long)getpid());
    char **envp = child_environ(var);
    if (!envp) {
        pool_set_error(NULL, "cannot start a %s: out of memory", role);
        errno = ENOMEM;
        return -1;
    }
    /* dup2 onto itself clears close-on-exec (POSIX 2024, glibc 2.29). */
    int err = posix_spawn_file_actions_init(&fa);
    if (!err)
        err = posix_spawn_file_actions_adddup2(&fa, fd, CHILD_FD);
    if (!err)
        err = posix_spawn_file_actions_addclosefrom_np(&fa, CHILD_FD + 1);
    struct stat now;
    bool same = stat(exe, &now) == 0 && now.st_dev == was.st_dev &&
                now.st_ino == was.st_ino &&
                now.st_mtim.tv_sec == was.st_mtim.tv_sec &&
                now.st_mtim.tv_nsec == was.st_mtim.tv_nsec;
    if (!err)
        err = posix_spawn(&pid, same ? exe : "/proc/self/exe", &fa, NULL,
                          argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    if (err) {
        pool_set_error(NULL, "cannot start a %s: posix_spawn: %s", role,
                       strerror(err));
        errno = err;
        return -1;
    }
    return pid;
}

/* A fresh image is named after the file it was started from, here "exe":
 * it takes the program's name, as ps would show it. */
void start_take_name(void)
{
    const char *base = strrchr(exe, '/');

    prctl(PR_SET_NAME, base ? base + 1 : exe, 0, 0, 0);
}

static int check(void)
{
    return start_check_image("spawn");
}

static pid_t start_worker(int child_fd)
{
    return start_launch("worker", child_fd);
}

static void no_handlers(void)
{
}

const struct pool_start_method pool_spawn_method = {
    .check = check, .index_of = start_task_index, .start = start_worker,
    .wait = wait_child, .atfork = no_handlers,
};
