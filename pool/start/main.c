/* pool/start/main.c - pool_main: where a fresh image learns what it is.
 *
 * The program calls pool_main() first in main(). In the program itself it
 * records the table of tasks and returns. In a spawned worker or the fork
 * server it becomes that and never returns. The role comes from
 * POOL_START_CHILD, but a variable is only a claim, which a user, or a
 * parent that leaves it set, can make by mistake: it is believed only when
 * descriptor 3 proves it, being a Unix socket of the role's type whose
 * other end was made by the parent named in the variable, our parent.
 * Otherwise the program runs as itself. Either way the variable goes, so
 * that a task that starts programs does not pass it on.
 */
#define _GNU_SOURCE /* SO_PEERCRED, struct ucred */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../process.h"
#include "start.h"

/* ---- names ------------------------------------------------------------------ */

static const char *const start_names[] = { "fork", "spawn", "forkserver" };

const char *pool_start_name(enum pool_start start)
{
    return (unsigned)start <= POOL_START_FORKSERVER ? start_names[start]
                                                     : "unknown";
}

int pool_start_parse(const char *name, enum pool_start *start)
{
    for (unsigned i = 0; i <= POOL_START_FORKSERVER; i++)
        if (strcmp(name, start_names[i]) == 0) {
            *start = (enum pool_start)i;
            return 0;
        }
    return EINVAL;
}

/* ---- the role of a fresh image --------------------------------------------- */

static bool proven(int fd, int type, long parent)
{
    struct stat st;
    struct sockaddr_storage addr;
    struct ucred cred;
    int got;
    socklen_t len = sizeof got, alen = sizeof addr, clen = sizeof cred;

    return fd == CHILD_FD && parent == (long)getppid() &&
           fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
           getsockopt(fd, SOL_SOCKET, SO_TYPE, &got, &len) == 0 &&
           got == type &&
           getsockname(fd, (struct sockaddr *)&addr, &alen) == 0 &&
           addr.ss_family == AF_UNIX &&
           getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 &&
           (long)cred.pid == parent;
}

void pool_main(const struct pool_task *tasks, size_t ntasks)
{
    const char *var = getenv(CHILD_ENV);
    char role[8] = "";
    int fd = -1;
    long parent = 0;

    start_boot(tasks, ntasks);
    if (!var)
        return;
    int got = sscanf(var, "%7[a-z]:%d:%ld", role, &fd, &parent);
    unsetenv(CHILD_ENV);
    if (got != 3)
        return;
    bool server = strcmp(role, "server") == 0;
    if ((!server && strcmp(role, "worker") != 0) ||
        !proven(fd, server ? SOCK_SEQPACKET : SOCK_STREAM, parent))
        return;
    start_take_name();
    if (server)
        start_server_main(fd);
    pp_worker_main(fd, (pid_t)parent);
}
