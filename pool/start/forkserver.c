/* pool/start/forkserver.c - the forkserver start method: one server, a
 * fresh image, forks the workers of every forkserver pool.
 *
 * Shows: multiprocessing's "forkserver" context in C (CPython:
 * Lib/multiprocessing/forkserver.py, 3.11). The server starts clean (a
 * fresh image holds none of the caller's threads or locks), so a worker
 * forked from it is as safe as a spawned one and nearly as cheap as a
 * fork. Its channel reaches the server over a socketpair with SCM_RIGHTS;
 * the server reaps it and sends its wait status back, since the program
 * is not its parent. Tasks travel by name, as under spawn.
 *
 *     program                          fork server (a fresh image)
 *     start(fd)        --START + fd--> fork() -> worker: PDEATHSIG, serve fd
 *                      <--STARTED pid--
 *     wait(pid)        <--EXITED pid, status--  (on SIGCHLD, via signalfd)
 *     exits or killed  ---end of file--> the server leaves; its workers
 *                                        die with it (PR_SET_PDEATHSIG)
 */
#define _GNU_SOURCE /* signalfd, SCM_RIGHTS, MSG_CMSG_CLOEXEC */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
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

#include "../process.h"
#include "start.h"

/* ---- one message with a descriptor riding along (SCM_RIGHTS) ------------- */

/* Send len bytes in one sendmsg, `pass` (unless -1) riding along; receive
 * up to len bytes and the descriptor riding along into *passed (-1 if
 * none), close-on-exec. Both return the bytes, or -1 with errno set. The
 * control part is aligned as a cmsghdr must be. */
union fd_control {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
};

static ssize_t send_fd(int fd, const void *buf, size_t len, int pass)
{
    union fd_control u;
    struct iovec iov = { (void *)buf, len };
    struct msghdr msg;
    ssize_t sent;

    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (pass >= 0) {
        memset(&u, 0, sizeof u);
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass, sizeof pass);
    }
    while ((sent = sendmsg(fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    return sent;
}

static ssize_t recv_fd(int fd, void *buf, size_t len, int *passed)
{
    union fd_control u;
    struct iovec iov = { buf, len };
    struct msghdr msg;
    ssize_t got;

    if (passed)
        *passed = -1;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    while ((got = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (got < 0)
        return got;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        int in;
        memcpy(&in, CMSG_DATA(c), sizeof in);
        if (passed)
            *passed = in;
        else
            close(in);
    }
    return got;
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
    return send_fd(fd, m, sizeof *m, pass) < 0 ? errno : 0;
}

/* Receive one message into m, and the descriptor it carries into *passed
 * (-1 if none; passed may be NULL when none is expected). Returns 0, EPIPE
 * at end of file, or an errno value. */
static int srv_recv(int fd, struct srv_msg *m, int *passed)
{
    ssize_t got = recv_fd(fd, m, sizeof *m, passed);

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
void start_server_main(int ctrl)
{
    sigset_t chld;
    struct sigaction ign;

    /* Not the program's child, so that a program that counts its children
     * after pool_join finds none of the pool's: the image the program
     * started leaves at once, and its child, an orphan, is the server. It
     * leaves at end of file on ctrl, when the program is gone. */
    pid_t pid = fork();
    if (pid != 0)
        _exit(pid < 0);
    struct srv_msg hello = { SRV_STARTED, 0, getpid() };
    if (srv_send(ctrl, &hello, -1))
        _exit(0);

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
    pid_t pid;    /* the server (not our child: see start_server_main) */
    struct srv_worker *w;
    size_t n, cap;
} srv = { PTHREAD_MUTEX_INITIALIZER, -1, 0, NULL, 0, 0 };

/* Start the server. Returns 0 or an errno value (the words: pool_set_error). */
static int srv_launch(void)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        int err = errno;
        pool_set_error(NULL, "cannot start the fork server: socketpair: "
                       "%s", strerror(err));
        return err;
    }
    sv[0] = pp_above_stdio(sv[0]);
    pid_t pid = sv[0] < 0 ? -1 : start_launch("server", sv[1]);
    int err = errno;
    close(sv[1]);
    if (pid < 0) {
        if (sv[0] >= 0)
            close(sv[0]);
        return err;
    }
    /* The image we started leaves at once; its child is the server, and
     * says who it is first. */
    struct srv_msg hello = { 0, 0, 0 };
    wait_child(pid, NULL, -1);
    if (srv_recv(sv[0], &hello, NULL) || hello.op != SRV_STARTED) {
        close(sv[0]);
        pool_set_error(NULL, "cannot start the fork server: it did not "
                       "answer");
        return EPROTO;
    }
    srv.fd = sv[0];
    srv.pid = hello.pid;
    return 0;
}

/* The server is gone or broken: end it and forget its workers (they die
 * with it; waiting for one of them now gives ECHILD). */
static void srv_forget(void)
{
    close(srv.fd);
    srv.fd = -1;
    kill(srv.pid, SIGKILL);
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
            pool_set_error(NULL, "cannot start a forkserver worker: out of "
                           "memory");
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
        pool_set_error(NULL, "cannot start a forkserver worker: %s",
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
            err = EOWNERDEAD;
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

/* ---- the method ------------------------------------------------------------ */

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void register_handlers(void)
{
    pthread_atfork(srv_prepare, srv_parent, srv_child);
}

static void atfork(void)
{
    pthread_once(&atfork_once, register_handlers);
}

static int check(void)
{
    return start_check_image("forkserver");
}

const struct pool_start_method pool_forkserver_method = {
    .check = check, .index_of = start_task_index,
    .start = start_forkserver_worker, .wait = wait_forkserver_worker,
    .atfork = atfork,
};
