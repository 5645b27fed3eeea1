/* pool/start.c - start methods: where a process pool's workers come from.
 *
 * Shows: multiprocessing's three start methods in C, and the rules that
 * come with the two that start a fresh image of the program.
 *
 *   fork        the worker is a copy of the caller, as it is at that moment:
 *               its globals, its heap, and the locks its other threads held
 *               (held forever in the child: nobody there will let them go).
 *               The task travels as a function pointer, valid in the copy.
 *   spawn       the worker is a fresh image of the program (posix_spawn of
 *               the running executable). It runs main() from the top, meets
 *               pool_main() and turns into a worker there: the C face of the
 *               `if __name__ == "__main__":` guard. A pointer means nothing
 *               in another image, so a task travels by its index in
 *               pool_main's table, the same in every image of the program:
 *               the C face of pickling a function by name.
 *   forkserver  on first use one server, itself a fresh image (so it holds
 *               none of the caller's threads or locks), forks the workers.
 *               Their channels reach it over a socketpair with SCM_RIGHTS;
 *               it reaps them and sends their wait status back, since the
 *               program is not their parent. Tasks travel as under spawn.
 *
 *     program                          fork server (a fresh image)
 *     start_worker(fd) --START + fd--> fork() -> worker: PDEATHSIG, serve fd
 *                      <--STARTED pid--
 *     wait_worker(pid) <--EXITED pid, status--  (on SIGCHLD, via signalfd)
 *     exits or killed  ---end of file--> the server leaves; its workers
 *                                        die with it (PR_SET_PDEATHSIG)
 *
 * A fresh image learns its role from one environment variable, read and
 * removed by pool_main(): POOL_START_CHILD=worker:3:PID or server:3:PID,
 * where 3 is the descriptor its channel was put on and PID the program's.
 * Nothing is made in the file system.
 *
 * See also: start.h (what process_pool.c calls), docs/start_methods.md,
 * CPython's Lib/multiprocessing/spawn.py and forkserver.py (3.11).
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addclosefrom_np, signalfd */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pool_impl.h"
#include "process.h"
#include "start.h"

extern char **environ;

#define CHILD_ENV "POOL_START_CHILD"
#define CHILD_FD 3 /* where a fresh image finds its channel: never 0-2 */

/* ---- the program's record: pool_main's table ----------------------------- */

static const struct pool_task *task_table;
static size_t task_count;
static bool booted;     /* pool_main ran: fresh images may be started */
static char exe[4096];  /* the running executable, resolved by pool_main */

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

int start_task_index(enum pool_start start, pool_fn *fn, size_t *index,
                     char *buf, size_t len)
{
    *index = POOL_TASK_NONE;
    if (start == POOL_START_FORK)
        return 0;
    for (size_t i = 0; i < task_count; i++)
        if (task_table[i].fn == fn) {
            *index = i;
            return 0;
        }
    snprintf(buf, len, "cannot send the task: not in pool_main's table "
             "(C's PicklingError)");
    return EINVAL;
}

/* What a worker runs for an index its own table does not have (only a
 * program that builds its table differently in each image gets here). */
static int missing_task(const void *arg, void *result)
{
    (void)arg;
    (void)result;
    return ENOSYS;
}

pool_fn *start_task_fn(pool_fn *fn, size_t index)
{
    if (index == POOL_TASK_NONE)
        return fn;
    return index < task_count ? task_table[index].fn : missing_task;
}

/* ---- words for a failed open ------------------------------------------- */

/* pool_open has no pool to keep its words in: they stay here, per thread,
 * for pool_error(NULL). */
static _Thread_local char open_error[256];

const char *start_open_error(void)
{
    return open_error;
}

static void open_failed(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static void open_failed(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(open_error, sizeof open_error, fmt, ap);
    va_end(ap);
}

int start_check(enum pool_kind kind, enum pool_start start)
{
    open_error[0] = '\0';
    if ((unsigned)start > POOL_START_FORKSERVER) {
        open_failed("unknown start method %d", (int)start);
        return EINVAL;
    }
    if (kind == POOL_THREADS || start == POOL_START_FORK)
        return 0; /* threads share the image: there is nothing to start */
    if (!booted) {
        open_failed("%s pool opened before pool_main(): call it first in "
                    "main()", start_names[start]);
        return EINVAL;
    }
    if (!exe[0]) {
        open_failed("a %s pool needs the running program, and "
                    "/proc/self/exe could not be read", start_names[start]);
        return ENOENT;
    }
    return 0;
}

/* ---- a fresh image of the program ---------------------------------------- */

/* The environment for a fresh image: ours, with `var` in place of any
 * CHILD_ENV. NULL when memory runs out. */
static char **child_environ(char *var)
{
    size_t n = 0, k = 0;
    char **envp;

    while (environ[n])
        n++;
    envp = malloc((n + 2) * sizeof *envp);
    if (!envp)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], CHILD_ENV "=", sizeof CHILD_ENV) != 0)
            envp[k++] = environ[i];
    envp[k++] = var;
    envp[k] = NULL;
    return envp;
}

/* Start the running executable as a `role` ("worker" or "server") with fd
 * on CHILD_FD and no other descriptor beyond stdin, stdout and stderr.
 * Returns its pid, or -1 with errno set and the words in open_error. */
static pid_t launch(const char *role, int fd)
{
    char var[64];
    char *argv[] = { exe, NULL };
    char **envp;
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int err;

    snprintf(var, sizeof var, CHILD_ENV "=%s:%d:%ld", role, CHILD_FD,
             (long)getpid());
    envp = child_environ(var);
    if (!envp) {
        open_failed("cannot start a %s: out of memory", role);
        errno = ENOMEM;
        return -1;
    }
    /* dup2 onto itself clears close-on-exec (POSIX 2024, glibc 2.29). */
    err = posix_spawn_file_actions_init(&fa);
    if (!err)
        err = posix_spawn_file_actions_adddup2(&fa, fd, CHILD_FD);
    if (!err)
        err = posix_spawn_file_actions_addclosefrom_np(&fa, CHILD_FD + 1);
    if (!err)
        err = posix_spawn(&pid, exe, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    if (err) {
        open_failed("cannot start a %s: posix_spawn %s: %s", role, exe,
                    strerror(err));
        errno = err;
        return -1;
    }
    return pid;
}

/* ---- the fork server: its side ------------------------------------------- */

/* One message on the control socket (SOCK_SEQPACKET: one a read). */
enum { SRV_START, SRV_STARTED, SRV_EXITED };
struct srv_msg {
    int op;
    int value;  /* STARTED: 0 or the errno of fork; EXITED: the wait status */
    pid_t pid;
};

/* Send m on fd, with `pass` (>= 0) attached as SCM_RIGHTS. */
static int srv_send(int fd, const struct srv_msg *m, int pass)
{
    return pp_send_fd(fd, m, sizeof *m, pass) < 0 ? errno : 0;
}

/* Receive one message into m, and the descriptor it carries into *passed
 * (-1 if none; passed may be NULL when none is expected). Returns 0, EPIPE
 * at end of file, or an errno value. */
static int srv_recv(int fd, struct srv_msg *m, int *passed)
{
    ssize_t got = pp_recv_fd(fd, m, sizeof *m, passed);

    if (got < 0)
        return errno;
    if (got == 0)
        return EPIPE;
    return (size_t)got == sizeof *m ? 0 : EPROTO;
}

/* The server's signal state, for its workers to give back. */
static sigset_t srv_old_mask;
static struct sigaction srv_old_int;

/* One START request: fork a worker onto the channel it carries. */
static void serve_start(int ctrl, int sfd)
{
    struct srv_msg m = { 0, 0, 0 };
    int chan;
    pid_t me = getpid();

    int err = srv_recv(ctrl, &m, &chan);
    if (err == EINTR || err == EAGAIN)
        return;
    if (err)
        _exit(0); /* end of file: the program is gone, and so are we */
    chan = pp_above_stdio(chan);
    if (m.op != SRV_START || chan < 0) {
        struct srv_msg no = { SRV_STARTED, chan < 0 ? EPROTO : EINVAL, 0 };
        if (chan >= 0)
            close(chan);
        if (srv_send(ctrl, &no, -1))
            _exit(0);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(ctrl);
        close(sfd);
        sigaction(SIGINT, &srv_old_int, NULL);
        signal(SIGCHLD, SIG_DFL);
        pthread_sigmask(SIG_SETMASK, &srv_old_mask, NULL);
        pp_worker_main(chan, me);
    }
    struct srv_msg reply = { SRV_STARTED, pid < 0 ? errno : 0, pid };
    close(chan);
    if (srv_send(ctrl, &reply, -1))
        _exit(0);
}

/* SIGCHLD arrived: reap every worker that ended and report it. */
static void report_exits(int ctrl, int sfd)
{
    struct signalfd_siginfo si;
    int status;
    pid_t pid;

    while (read(sfd, &si, sizeof si) > 0)
        ; /* drain: one pass of waitpid below covers them all */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct srv_msg m = { SRV_EXITED, status, pid };
        if (srv_send(ctrl, &m, -1))
            _exit(0);
    }
}

/* The fork server's life: a single thread that forks workers on request
 * and reports how they ended, until the program's end of the control
 * socket closes. It ignores Ctrl-C, as CPython's does (forkserver.py,
 * main(), 3.11): the program decides, and its end of file ends us. */
static _Noreturn void server_main(int ctrl)
{
    sigset_t chld;
    struct sigaction ign;

    /* SIGCHLD must reach us, whatever the program made of it. */
    signal(SIGCHLD, SIG_DFL);
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &srv_old_mask);
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &srv_old_int);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0)
        _exit(1);
    for (;;) {
        struct pollfd p[2] = { { ctrl, POLLIN, 0 }, { sfd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        if (p[1].revents)
            report_exits(ctrl, sfd);
        if (p[0].revents)
            serve_start(ctrl, sfd);
    }
}

/* ---- the fork server: the program's side --------------------------------- */

/* The server, and the workers it started for us that we have not waited
 * for yet: their wait status arrives whenever they end, and is kept here
 * until wait_worker asks. One lock for all of it, and one server for every
 * forkserver pool of the program. */
struct srv_worker {
    pid_t pid;
    int status;
    bool done;
};

static struct {
    pthread_mutex_t lock;
    int fd;       /* our end of the control socket; -1: no server */
    pid_t pid;    /* the server, our child */
    struct srv_worker *w;
    size_t n, cap;
} srv = { PTHREAD_MUTEX_INITIALIZER, -1, 0, NULL, 0, 0 };

/* Start the server. Returns 0 or an errno value (words in open_error). */
static int srv_launch(void)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        int err = errno;
        open_failed("cannot start the fork server: socketpair: %s",
                    strerror(err));
        return err;
    }
    sv[0] = pp_above_stdio(sv[0]);
    pid_t pid = sv[0] < 0 ? -1 : launch("server", sv[1]);
    int err = errno;
    close(sv[1]);
    if (pid < 0) {
        if (sv[0] >= 0)
            close(sv[0]);
        return err;
    }
    srv.fd = sv[0];
    srv.pid = pid;
    return 0;
}

/* The server is gone or broken: reap it and forget its workers (they die
 * with it; waiting for one of them now gives ECHILD). */
static void srv_forget(void)
{
    close(srv.fd);
    srv.fd = -1;
    kill(srv.pid, SIGKILL);
    while (waitpid(srv.pid, NULL, 0) < 0 && errno == EINTR)
        ;
    srv.pid = 0;
    srv.n = 0;
}

static struct srv_worker *srv_find(pid_t pid)
{
    for (size_t i = 0; i < srv.n; i++)
        if (srv.w[i].pid == pid)
            return &srv.w[i];
    return NULL;
}

/* Read one message from the server; keep an exit status it reports. */
static int srv_read_one(struct srv_msg *m)
{
    int err = srv_recv(srv.fd, m, NULL);

    if (!err && m->op == SRV_EXITED) {
        struct srv_worker *w = srv_find(m->pid);
        if (w) {
            w->status = m->value;
            w->done = true;
        }
    }
    return err;
}

/* Ask the running server for a worker on child_fd: its pid, or an errno
 * value (negated). */
static pid_t srv_start_one(int child_fd)
{
    struct srv_msg m = { SRV_START, 0, 0 };
    int err = srv_send(srv.fd, &m, child_fd);

    while (!err) {
        err = srv_read_one(&m);
        if (!err && m.op == SRV_STARTED) {
            if (m.value)
                return -m.value;
            srv.w[srv.n++] = (struct srv_worker){ m.pid, 0, false };
            return m.pid;
        }
    }
    return -err;
}

static pid_t start_forkserver_worker(int child_fd)
{
    pid_t pid = -EPIPE;

    pthread_mutex_lock(&srv.lock);
    if (srv.n == srv.cap) { /* room first: a started worker is never lost */
        size_t cap = srv.cap ? 2 * srv.cap : 16;
        struct srv_worker *w = realloc(srv.w, cap * sizeof *w);
        if (!w) {
            pthread_mutex_unlock(&srv.lock);
            open_failed("cannot start a forkserver worker: out of memory");
            errno = ENOMEM;
            return -1;
        }
        srv.w = w;
        srv.cap = cap;
    }
    /* A server that died is replaced, once. */
    for (int tries = 0; tries < 2 && pid == -EPIPE; tries++) {
        int err = srv.fd < 0 ? srv_launch() : 0;
        if (err) {
            pid = -err;
            break;
        }
        pid = srv_start_one(child_fd);
        if (pid == -EPIPE || pid == -ECONNRESET || pid == -EPROTO) {
            srv_forget();
            pid = -EPIPE;
        }
    }
    pthread_mutex_unlock(&srv.lock);
    if (pid < 0) {
        if (!open_error[0])
            open_failed("cannot start a forkserver worker: %s",
                        strerror((int)-pid));
        errno = (int)-pid;
        return -1;
    }
    return pid;
}

/* Milliseconds on CLOCK_MONOTONIC. */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until the server has something to say, or `until` (now_ms) passes:
 * 0, ETIMEDOUT, or the errno of poll. */
static int srv_readable(long long until)
{
    struct pollfd p = { srv.fd, POLLIN, 0 };
    int got;

    do {
        long long left = until - now_ms();
        if (left <= 0)
            return ETIMEDOUT;
        got = poll(&p, 1, (int)left);
    } while (got < 0 && errno == EINTR);
    return got > 0 ? 0 : got == 0 ? ETIMEDOUT : errno;
}

static int wait_forkserver_worker(pid_t pid, int *status, int timeout_ms)
{
    struct srv_msg m = { 0, 0, 0 };
    long long until = now_ms() + timeout_ms;
    int err = 0;

    pthread_mutex_lock(&srv.lock);
    struct srv_worker *w = srv_find(pid);
    if (!w)
        err = ECHILD;
    while (!err && !w->done) {
        if (timeout_ms >= 0 && (err = srv_readable(until)))
            break;
        if (srv_read_one(&m)) {
            srv_forget(); /* the server died: nobody can tell how it ended */
            err = ECHILD;
        }
    }
    if (!err) {
        if (status)
            *status = w->status;
        *w = srv.w[--srv.n];
    }
    pthread_mutex_unlock(&srv.lock);
    return err;
}

/* A fork of the program (a fork pool's worker, the caller's own child)
 * must not hold the control socket, or the server would not see the end
 * of the program; nor inherit the lock while a thread holds it. */
static void srv_prepare(void)
{
    pthread_mutex_lock(&srv.lock);
}

static void srv_parent(void)
{
    pthread_mutex_unlock(&srv.lock);
}

static void srv_child(void)
{
    if (srv.fd >= 0)
        close(srv.fd);
    srv.fd = -1;
    srv.pid = 0; /* not the child's child */
    free(srv.w);
    srv.w = NULL;
    srv.n = srv.cap = 0;
    pthread_mutex_unlock(&srv.lock);
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void register_handlers(void)
{
    pthread_atfork(srv_prepare, srv_parent, srv_child);
}

void start_atfork(void)
{
    pthread_once(&atfork_once, register_handlers);
}

/* ---- what process_pool.c calls ------------------------------------------ */

pid_t start_worker(enum pool_start start, int child_fd)
{
    if (start == POOL_START_FORKSERVER)
        return start_forkserver_worker(child_fd);
    return launch("worker", child_fd);
}

/* waitpid for a child of ours, at most timeout_ms (< 0: no limit). */
static int wait_child(pid_t pid, int *status, int timeout_ms)
{
    struct timespec ms = { 0, 1000000L };

    for (int waited = 0;; waited++) {
        pid_t got = waitpid(pid, status, timeout_ms < 0 ? 0 : WNOHANG);
        if (got > 0)
            return 0;
        if (got < 0 && errno != EINTR)
            return errno;
        if (got == 0) {
            if (waited >= timeout_ms)
                return ETIMEDOUT;
            nanosleep(&ms, NULL);
        }
    }
}

int wait_worker(enum pool_start start, pid_t pid, int *status, int timeout_ms)
{
    if (start == POOL_START_FORKSERVER)
        return wait_forkserver_worker(pid, status, timeout_ms);
    return wait_child(pid, status, timeout_ms);
}

/* ---- pool_main: where a fresh image learns what it is -------------------- */

void pool_main(const struct pool_task *tasks, size_t ntasks)
{
    const char *var = getenv(CHILD_ENV);
    char role[8];
    int fd;
    long parent;

    task_table = tasks;
    task_count = ntasks;
    booted = true;
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe);
    exe[len > 0 && (size_t)len < sizeof exe ? len : 0] = '\0';
    if (!var || sscanf(var, "%7[a-z]:%d:%ld", role, &fd, &parent) != 3)
        return; /* the program itself */
    /* A task that starts programs must not pass the role on. */
    unsetenv(CHILD_ENV);
    if (strcmp(role, "server") == 0)
        server_main(fd);
    pp_worker_main(fd, (pid_t)parent);
}
